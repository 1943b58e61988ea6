# expect: RUNTIME_ERROR exit=1
def f(n):
    return f(n + 1)
f(0)
