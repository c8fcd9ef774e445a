# ModelNet40 zero-shot test set in OpenShape's files:
# meta_data/modelnet40/test_split.json + test_pc.npy (2,468 shapes, 10,000
# points with RGB 0..255 each) under data/OpenShape/. The same test shapes
# as modelnet40.py, with colours, for colour models. test_pc.npy is a
# pickle, which can run code when loaded: trust_pickle=True states that
# OpenShape's release is trusted. Evaluation only: nothing is ever selected
# on it.
zeroshot_dataset = dict(
    type='OpenShapeModelNet40',
    data_root='data/OpenShape/',
    split='test',
    trust_pickle=True,
    test_mode=True)
zeroshot_evaluator = dict(type='ZeroShotAccuracy', name='openshape_modelnet40')
