"""Make CG3D triplet data (points + rendered views + class names) from real
mesh collections: ShapeNetCore v2, ModelNet or any folder of meshes
grouped by class, written in the ShapeNet55 / CG3D layout that
:class:`~cg3d_mm.datasets.ShapeNetTriplets` reads.

One module per step: :mod:`.discovery` (find meshes, name samples),
:mod:`.splits`, :mod:`.mesh_loading` (mesh + colours + textures, asset
names resolved by :mod:`.asset_resolver`),
:mod:`.sample_writer` (points + views of one mesh), :mod:`.index_writer`
(lists, names, taxonomy), :mod:`.summary` and :mod:`.prepare` (the run).
"""
from .discovery import (FORMATS, MESH_EXTENSIONS, MeshRecord, class_synset,
                        discover_meshes)
from .mesh_loading import LoadedMesh, MeshLoadError, load_mesh
from .prepare import MANIFEST, prepare_triplets
from .sample_writer import (IMAGE_MODES, SampleResult, SampleSettings,
                            is_complete, write_sample)
from .splits import SPLITS, assign_splits, read_split_lists
from .summary import SUMMARY_FILE, PrepareSummary

__all__ = [
    'prepare_triplets', 'PrepareSummary', 'FORMATS', 'MESH_EXTENSIONS',
    'MeshRecord', 'class_synset', 'discover_meshes', 'LoadedMesh',
    'MeshLoadError', 'load_mesh', 'SampleSettings', 'SampleResult',
    'write_sample', 'is_complete', 'IMAGE_MODES', 'SPLITS', 'assign_splits',
    'read_split_lists', 'MANIFEST', 'SUMMARY_FILE'
]
