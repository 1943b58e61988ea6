# expect: TIME_LIMIT cpu=0.5 wall=2
while True:
    pass
