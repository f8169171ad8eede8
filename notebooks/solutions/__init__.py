"""Worked solutions to the notebooks' exercises, kept out of the reader's way.

One module per notebook (``worlds`` for 00, ``vision`` for 01, ``memory`` for
02, ``controller`` for 03, ``dream`` for 04, ``temperature`` for 05,
``iterative`` for 06). Each function is small, runs at toy sizes, and is
checked by ``tests/test_solutions.py``; the notebooks' exercises say which
function answers them.
"""
