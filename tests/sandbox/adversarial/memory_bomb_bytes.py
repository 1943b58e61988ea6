# expect: MEMORY_LIMIT memory=64 wall=5
# One huge touched allocation (MemoryError or OOM kill, both after hitting the limit).
data = bytearray(512 << 20)
for i in range(0, len(data), 4096):
    data[i] = 1
