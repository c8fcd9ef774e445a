# ScanObjectNN zero-shot set in OpenShape's file:
# meta_data/scanobjectnn/xyz_label.npy under data/OpenShape/ (15 classes,
# no colours: OpenShape's constant grey 0.4). OpenShape does not name the
# variant and the file holds train + test clouds (2,890), so its numbers are
# not those of scanobjectnn_*.py. xyz_label.npy is a pickle, which can run
# code when loaded: trust_pickle=True states that OpenShape's release is
# trusted. Evaluation only: nothing is ever selected on it.
zeroshot_dataset = dict(
    type='OpenShapeScanObjectNN',
    data_root='data/OpenShape/',
    split='test',
    trust_pickle=True,
    test_mode=True)
zeroshot_evaluator = dict(type='ZeroShotAccuracy',
                          name='openshape_scanobjectnn')
