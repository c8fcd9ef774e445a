from .zeroshot_accuracy import ZeroShotAccuracy, accuracy_summary

__all__ = ['ZeroShotAccuracy', 'accuracy_summary']
