# ScanObjectNN OBJ_ONLY zero-shot test set (object points only):
# main_split_nobg/test_objectdataset.h5, 15 classes. Evaluation only:
# nothing is ever selected on the test split.
zeroshot_dataset = dict(
    type='ScanObjectNN',
    data_root='data/ScanObjectNN/',
    variant='OBJ_ONLY',
    split='test',
    test_mode=True)
zeroshot_evaluator = dict(type='ZeroShotAccuracy',
                          name='scanobjectnn_obj_only')
