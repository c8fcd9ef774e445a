"""Check data before a run: every split's files from their headers.

One module per layout (``shapenet``, ``modelnet``, ``scanobjectnn``,
``scenes``; the peers' training layouts in ``peers``, OpenShape's test
files in ``openshape_eval``, tar shards in ``shards``), cheap per-file
checks in ``headers``, the cache and the
parallel runner in ``core``, and the entry points in ``runner``:
:func:`check_config` (the splits a config reads) and
:func:`check_data_root` (every split of a data root).
"""
from .core import FileCheckCache, Problem, SplitReport
from .headers import (check_bin, check_image, check_npy, check_npz,
                      check_pickled_npy, check_points_file, check_txt_points)
from .modelnet import check_modelnet_dat, check_modelnet_split
from .openshape_eval import (check_objaverse_lvis_split,
                             check_openshape_modelnet40_split,
                             check_openshape_scanobjectnn_split)
from .peers import (check_openshape_split, check_ulip2_objaverse_split,
                    check_ulip_shapenet_split)
from .runner import (DEFAULT_MAX_BAD_RATIO, LAYOUTS, DataCheckReport,
                     check_config, check_data_root, check_dataset_cfg)
from .scanobjectnn import check_scanobjectnn_h5, check_scanobjectnn_split
from .scenes import check_scene_files, check_scenes_split
from .shapenet import check_shapenet_split
from .shards import check_shards_split, check_tar_shard

__all__ = [
    'Problem', 'SplitReport', 'DataCheckReport', 'FileCheckCache', 'LAYOUTS',
    'DEFAULT_MAX_BAD_RATIO', 'check_config', 'check_data_root',
    'check_dataset_cfg', 'check_shapenet_split', 'check_modelnet_split',
    'check_scanobjectnn_split', 'check_scenes_split', 'check_npy',
    'check_image', 'check_txt_points', 'check_bin', 'check_modelnet_dat',
    'check_scanobjectnn_h5', 'check_scene_files', 'check_npz',
    'check_pickled_npy', 'check_points_file', 'check_ulip_shapenet_split',
    'check_ulip2_objaverse_split', 'check_openshape_split',
    'check_objaverse_lvis_split', 'check_openshape_modelnet40_split',
    'check_openshape_scanobjectnn_split', 'check_shards_split',
    'check_tar_shard'
]
