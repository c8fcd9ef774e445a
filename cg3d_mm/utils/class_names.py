"""Class names as they read in captions and prompts."""


def readable_class_name(name: str) -> str:
    """``night_stand`` -> ``night stand``; ``flower_pot`` -> ``flower pot``."""
    return ' '.join(name.replace('_', ' ').split())
