"""Order of the examples in the gallery (newcomer's path first, then by topic)."""

ORDER = [
    "plot_quickstart_digits.py",
    "plot_multiview_mat.py",
    "plot_incomplete_views.py",
    "plot_custom_encoder.py",
    "plot_training_curves.py",
    "plot_gridsearch_without_labels.py",
    "plot_compare_methods.py",
]


class ExampleOrder:
    """Sort key for sphinx-gallery's ``within_subsection_order``: listed files first, others by name."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __repr__(self):
        return f"<{self.__class__.__name__}>"

    def __call__(self, filename):
        """Sort key of one example file name."""
        if filename in ORDER:
            return (ORDER.index(filename), filename)
        return (len(ORDER), filename)
