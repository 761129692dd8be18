"""Offline data for the labeling assignment: scikit-learn's handwritten digits.

``load_digits`` ships with scikit-learn (1,797 8x8 images, 10 classes): enough
for Ground Truth's 1,250-object minimum, and no download.

Examples
--------
>>> data = load_digits_objects()
>>> len(data.records), data.X.shape, data.class_names[:3]
(1797, (1797, 64), ('0', '1', '2'))
>>> data.records[0]
{'source-ref': 's3://course-ground-truth/digits/00000.png'}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.datasets import load_digits

__all__ = ["LabelingData", "load_digits_objects"]


@dataclass(frozen=True)
class LabelingData:
    """Objects to label: manifest lines, features, hidden truth and class names."""

    records: list[dict[str, Any]]
    X: np.ndarray
    y: np.ndarray
    class_names: tuple[str, ...]


def load_digits_objects(*, bucket: str = "s3://course-ground-truth/digits") -> LabelingData:
    """The digits as a Ground Truth input manifest, with features and hidden labels."""
    digits = load_digits()
    records = [{"source-ref": f"{bucket}/{i:05d}.png"} for i in range(len(digits.target))]
    class_names = tuple(str(name) for name in digits.target_names)
    return LabelingData(records, digits.data.astype(float), digits.target.astype(int), class_names)
