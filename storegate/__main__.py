"""``python -m storegate``."""

from storegate.cli import main

if __name__ == "__main__":
    main(prog_name="storegate")
