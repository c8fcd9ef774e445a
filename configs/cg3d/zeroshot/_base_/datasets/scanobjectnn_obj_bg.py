# ScanObjectNN OBJ_BG zero-shot test set (objects with their background):
# main_split/test_objectdataset.h5, 15 classes. Evaluation only: nothing is
# ever selected on the test split.
zeroshot_dataset = dict(
    type='ScanObjectNN',
    data_root='data/ScanObjectNN/',
    variant='OBJ_BG',
    split='test',
    test_mode=True)
zeroshot_evaluator = dict(type='ZeroShotAccuracy', name='scanobjectnn_obj_bg')
