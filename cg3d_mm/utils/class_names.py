"""Class names as they read in captions and prompts."""


def readable_class_name(name: str) -> str:
    """``night_stand`` -> ``night stand``; ``flower_pot`` -> ``flower pot``."""
    return ' '.join(name.replace('_', ' ').split())


# CG3D's names for three ShapeNetCore synsets whose first taxonomy name
# reads badly in a caption (03211117 display, 04530566 vessel, 02747177
# ashcan).
CG3D_CLASS_RENAMES = {
    'display': 'monitor',
    'vessel': 'ship',
    'ashcan': 'trashcan',
}


def taxonomy_class(names, classes):
    """The class a taxonomy entry belongs to, given the class list.

    Args:
        names (Sequence[str]): The entry's names, ``'name1,name2,...'``
            split (ShapeNetCore / Point-BERT ``taxonomy.json``).
        classes (Container[str]): Known class names (``shape_names.txt``).

    Returns:
        str | None: The first name, else CG3D's rename of it
        (:data:`CG3D_CLASS_RENAMES`), else any other listed name, whichever
        ``classes`` holds first; None if none is.
    """
    first = names[0]
    candidates = [first, CG3D_CLASS_RENAMES.get(first)] + list(names[1:])
    return next((c for c in candidates if c is not None and c in classes),
                None)
