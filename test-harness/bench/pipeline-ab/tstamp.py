#!/usr/bin/env python3
"""Prefix each stdin line with the epoch time it arrived."""
import sys, time
for line in sys.stdin:
    sys.stdout.write("%.3f %s" % (time.time(), line))
    sys.stdout.flush()
