# Objaverse-LVIS zero-shot test set as OpenShape ships it: the shapes of
# meta_data/split/lvis.json (1,156 LVIS categories, 10,000 points with RGB
# per shape) under data/OpenShape/ (meta_data/ and the unpacked
# objaverse-processed/ archives; see cg3d_mm/datasets/openshape_eval.py).
# The shape files are pickles, which can run code when loaded:
# trust_pickle=True states that OpenShape's release is trusted. Evaluation
# only: nothing (checkpoint, prompt, setting) is ever selected on it.
zeroshot_dataset = dict(
    type='ObjaverseLVIS',
    data_root='data/OpenShape/',
    split='test',
    trust_pickle=True,
    test_mode=True)
zeroshot_evaluator = dict(type='ZeroShotAccuracy', name='objaverse_lvis')
