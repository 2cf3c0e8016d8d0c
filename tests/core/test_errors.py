from __future__ import annotations

import loopml.core.errors as errors


def test_every_error_is_a_loopml_error_with_its_own_code() -> None:
    classes = [
        value
        for value in vars(errors).values()
        if isinstance(value, type) and issubclass(value, errors.LoopMLError)
    ]
    codes = [cls.error_code for cls in classes]
    assert len(codes) == len(set(codes)), "error codes are unique"
    for cls in classes:
        assert cls.__doc__, f"{cls.__name__} says what it means"


def test_user_errors_are_also_builtin_kinds() -> None:
    assert issubclass(errors.InvalidInputError, ValueError)
    assert issubclass(errors.NotFoundError, LookupError)
    assert errors.InvalidInputError("x").message == "x"
