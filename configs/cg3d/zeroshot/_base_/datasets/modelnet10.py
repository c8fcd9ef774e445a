# ModelNet10 zero-shot test set: the 908 shapes of modelnet10_test.txt (the
# 10-class subset, same folder as ModelNet40). Evaluation only: accuracy is
# reported on the test split and nothing (checkpoint, prompt, setting) is
# ever selected on it.
zeroshot_dataset = dict(
    type='ModelNet',
    data_root='data/modelnet40_normal_resampled/',
    num_classes=10,
    split='test',
    test_mode=True)
zeroshot_evaluator = dict(type='ZeroShotAccuracy', name='modelnet10')
