# expect: MEMORY_LIMIT memory=64 wall=5
# List growth until the cgroup limit.
chunks = []
while True:
    chunks.append([0] * 1000000)
