"""The category table of the synthetic world and the real label spaces it
mirrors (ShapeNetCore, ModelNet40/10, ScanObjectNN, S3DIS)."""
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

# ModelNet40 class names, alphabetical as in modelnet40_shape_names.txt.
MODELNET40_CLASSES: Tuple[str,
                          ...] = ('airplane', 'bathtub', 'bed', 'bench',
                                  'bookshelf', 'bottle', 'bowl', 'car',
                                  'chair', 'cone', 'cup', 'curtain', 'desk',
                                  'door', 'dresser', 'flower_pot', 'glass_box',
                                  'guitar', 'keyboard', 'lamp', 'laptop',
                                  'mantel', 'monitor', 'night_stand', 'person',
                                  'piano', 'plant', 'radio', 'range_hood',
                                  'sink', 'sofa', 'stairs', 'stool', 'table',
                                  'tent', 'toilet', 'tv_stand', 'vase',
                                  'wardrobe', 'xbox')
MODELNET10_CLASSES: Tuple[str, ...] = ('bathtub', 'bed', 'chair', 'desk',
                                       'dresser', 'monitor', 'night_stand',
                                       'sofa', 'table', 'toilet')
# ScanObjectNN's 15 classes in label order (h5 ``label`` indexes these).
SCANOBJECTNN_CLASSES: Tuple[str, ...] = ('bag', 'bin', 'box', 'cabinet',
                                         'chair', 'desk', 'display', 'door',
                                         'shelf', 'table', 'bed', 'pillow',
                                         'sink', 'sofa', 'toilet')
# S3DIS semantic classes in label order (mmdet3d's S3DISSegDataset).
S3DIS_CLASSES: Tuple[str, ...] = ('ceiling', 'floor', 'wall', 'beam', 'column',
                                  'window', 'door', 'table', 'chair', 'sofa',
                                  'bookcase', 'board', 'clutter')
# S3DIS detection classes (mmdet3d's S3DISDataset) and their semantic ids.
S3DIS_DET_CLASSES: Tuple[str,
                         ...] = ('table', 'chair', 'sofa', 'bookcase', 'board')


@dataclass(frozen=True)
class CategoryInfo:
    """One category of the synthetic world.

    Attributes:
        name (str): Class name, also the first taxonomy name.
        synset (str): 8-digit ShapeNetCore synset id (WordNet 3.0 noun
            offset). Categories ShapeNetCore lacks carry an invented id
            starting with '9' (no ShapeNetCore synset does) and
            ``in_shapenet=False``.
        taxonomy (str): Comma-separated names as in ShapeNet's
            taxonomy.json, extended with the ModelNet40 / ScanObjectNN names
            of the same category.
        modelnet40 (str | None): ModelNet40 class name, if any.
        scanobjectnn (int | None): ScanObjectNN label index, if any.
        s3dis (str): S3DIS semantic class when placed in a room.
        in_shapenet (bool): Whether ShapeNetCore (55 classes) has it; only
            these appear in the ShapeNet55 layout.
    """
    name: str
    synset: str
    taxonomy: str
    modelnet40: Optional[str]
    scanobjectnn: Optional[int]
    s3dis: str = 'clutter'
    in_shapenet: bool = True

    @property
    def scanobjectnn_name(self) -> Optional[str]:
        """ScanObjectNN class name, if any."""
        return (None if self.scanobjectnn is None else
                SCANOBJECTNN_CLASSES[self.scanobjectnn])


def _c(*args, **kwargs) -> CategoryInfo:
    return CategoryInfo(*args, **kwargs)


# Real ShapeNetCore synsets; the invented ones are marked in_shapenet=False.
CATEGORIES: Tuple[CategoryInfo, ...] = (
    _c('airplane', '02691156', 'airplane,aeroplane,plane', 'airplane', None),
    _c(
        'ashcan', '02747177',
        'ashcan,trash can,garbage can,wastebin,ash bin,ash-bin,ashbin,dustbin,'
        'trash barrel,trash bin,bin', None, 1),
    _c('bag', '02773838', 'bag,traveling bag,travelling bag,grip,suitcase',
       None, 0),
    _c('bathtub', '02808440', 'bathtub,bathing tub,bath,tub', 'bathtub', None),
    _c('bed', '02818832', 'bed', 'bed', 10),
    _c('bench', '02828884', 'bench', 'bench', None),
    _c('bookshelf', '02871439', 'bookshelf,shelf,shelves,bookcase',
       'bookshelf', 8, 'bookcase'),
    _c('bottle', '02876657', 'bottle', 'bottle', None),
    _c('bowl', '02880940', 'bowl', 'bowl', None),
    _c('cabinet', '02933112',
       'cabinet,dresser,chest of drawers,cupboard,sideboard', 'dresser', 3),
    _c('car', '02958343', 'car,auto,automobile,machine,motorcar', 'car', None),
    _c('chair', '03001627', 'chair', 'chair', 4, 'chair'),
    _c('display', '03211117', 'display,video display,monitor,screen',
       'monitor', 6),
    _c('guitar', '03467517', 'guitar', 'guitar', None),
    _c('lamp', '03636649', 'lamp', 'lamp', None),
    _c('laptop', '03642806', 'laptop,laptop computer', 'laptop', None),
    _c('mug', '03797390', 'mug,cup', 'cup', None),
    _c('pillow', '03938244', 'pillow,cushion', None, 11),
    _c('pot', '03991062', 'pot,flowerpot,flower pot,plant pot', 'flower_pot',
       None),
    _c('sofa', '04256520', 'sofa,couch,lounge', 'sofa', 13, 'sofa'),
    _c('table', '04379243', 'table', 'table', 9, 'table'),
    # Not ShapeNetCore categories (invented synset ids, prefix '9').
    _c('box',
       '90000001',
       'box,carton,crate,cardboard box',
       None,
       2,
       in_shapenet=False),
    _c('desk',
       '90000002',
       'desk,writing desk,office desk',
       'desk',
       5,
       'table',
       in_shapenet=False),
    _c('door', '90000003', 'door', 'door', 7, 'door', in_shapenet=False),
    _c('night_stand',
       '90000004',
       'night_stand,nightstand,night table,bedside table',
       'night_stand',
       None,
       in_shapenet=False),
    _c('sink',
       '90000005',
       'sink,washbasin,basin,wash-hand basin',
       'sink',
       12,
       in_shapenet=False),
    _c('toilet',
       '90000006',
       'toilet,lavatory,commode,water closet',
       'toilet',
       14,
       in_shapenet=False),
)
CATEGORY_BY_NAME: Dict[str, CategoryInfo] = {c.name: c for c in CATEGORIES}


def resolve_categories(
        classes: Optional[Sequence[str]] = None) -> List[CategoryInfo]:
    """Categories named by ``classes`` (all when None), in table order.

    Args:
        classes (Sequence[str], optional): Category names (first taxonomy
            names, e.g. 'display', 'ashcan').

    Returns:
        list[CategoryInfo]: the categories.
    """
    if classes is None:
        return list(CATEGORIES)
    if isinstance(classes, str):
        classes = [c for c in classes.split(',') if c]
    unknown = [c for c in classes if c not in CATEGORY_BY_NAME]
    if unknown:
        raise ValueError(f'classes: unknown class name(s) {unknown}; '
                         f'expected names from {sorted(CATEGORY_BY_NAME)}')
    if not classes:
        raise ValueError('classes must name at least one class')
    wanted = set(classes)
    return [c for c in CATEGORIES if c.name in wanted]
