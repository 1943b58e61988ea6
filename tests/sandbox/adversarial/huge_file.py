# expect: OUTPUT_LIMIT fsize=1 wall=5
# A file beyond RLIMIT_FSIZE: SIGXFSZ.
with open("big.bin", "wb") as f:
    while True:
        f.write(b"\0" * 65536)
