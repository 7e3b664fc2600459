"""python -m vigiles"""
from vigiles.cli.main import main

main()
