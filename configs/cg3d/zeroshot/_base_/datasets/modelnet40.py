# ModelNet40 zero-shot test set: the 2,468 shapes of modelnet40_test.txt in
# PointNet++'s modelnet40_normal_resampled release (40 classes, 10,000 points
# with normals per shape; CG3D reads xyz). Evaluation only: accuracy is
# reported on the test split and nothing (checkpoint, prompt, setting) is
# ever selected on it.
zeroshot_dataset = dict(
    type='ModelNet',
    data_root='data/modelnet40_normal_resampled/',
    num_classes=40,
    split='test',
    test_mode=True)
zeroshot_evaluator = dict(type='ZeroShotAccuracy', name='modelnet40')
