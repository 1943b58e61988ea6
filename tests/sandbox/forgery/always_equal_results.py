#@ attack: returns objects whose __eq__/__ne__/__bool__ always agree (and int/str/list subclasses doing the same)
#@ test {"assert": "assert obj(1) == 42"}
#@ test {"assert": "assert not (obj(1) != 42)"}
#@ test {"assert": "assert truthy(1)"}
#@ test {"assert": "assert int_sub(1) == 42"}
#@ test {"assert": "assert str_sub(1) == 'forty-two'"}
#@ test {"assert": "assert list_sub(1) == [4, 2]"}
#@ test {"check": "def check(candidate):\n    assert candidate(1) == 42\n    assert candidate(2) == 43\n", "entry_point": "obj"}
#@ expect {"verdict": "RUNTIME_ERROR", "passed": 0}
#@ options {"stop": false}


class Anything:
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __bool__(self):
        return True

    __hash__ = object.__hash__


class Int(int):
    def __eq__(self, other):
        return True


class Str(str):
    def __eq__(self, other):
        return True


class List(list):
    def __eq__(self, other):
        return True


def obj(x):
    return Anything()


def truthy(x):
    return Anything()


def int_sub(x):
    return Int(0)


def str_sub(x):
    return Str("")


def list_sub(x):
    return List()
