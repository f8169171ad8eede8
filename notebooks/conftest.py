"""nbval runs every chapter with TRAIN on at the ci profile: the training path of each chapter is proven in
seconds, while tests/test_book_site.py runs them all with TRAIN off (the shipped-first reading)."""
import os

os.environ.setdefault("WM_TRAIN", "1")
