"""Voice packs made here: recording takes from the microphone, cleaning them, importing and sharing packs.

Reading a pack (speaking its takes) is the speech engine speech/engines/recorded.py; its files are
described in speech/packs.py.
"""
