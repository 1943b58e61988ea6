#@ attack: none (positive control): a correct MBPP-style solution with three assert tests, containers and a helper
#@ test {"assert": "assert similar_elements((3, 4, 5, 6), (5, 7, 4, 10)) == (4, 5)"}
#@ test {"assert": "assert set(similar_elements((1, 2, 3, 4), (5, 4, 3, 7))) == {3, 4}"}
#@ test {"assert": "assert similar_elements((11, 12, 14, 13), (17, 15, 14, 13)) == (13, 14)\nassert helper() == {'a': [1, (2, 3)]}"}
#@ expect {"verdict": "OK", "passed": 3}


def similar_elements(a, b):
    return tuple(sorted(set(a) & set(b)))


def helper():
    return {"a": [1, (2, 3)]}


if __name__ == "__main__":
    print(similar_elements((1,), (1,)))
