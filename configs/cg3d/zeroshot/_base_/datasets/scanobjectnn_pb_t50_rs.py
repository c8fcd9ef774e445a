# ScanObjectNN PB_T50_RS zero-shot test set (the hardest variant, the one the
# CG3D paper reports): main_split/test_objectdataset_augmentedrot_scale75.h5,
# 15 classes. Always name the variant: "ScanObjectNN" means different splits
# across papers. Evaluation only: nothing is ever selected on the test split.
zeroshot_dataset = dict(
    type='ScanObjectNN',
    data_root='data/ScanObjectNN/',
    variant='PB_T50_RS',
    split='test',
    test_mode=True)
zeroshot_evaluator = dict(type='ZeroShotAccuracy',
                          name='scanobjectnn_pb_t50_rs')
