#!/usr/bin/env python3
"""Write a deterministic, realistic users CSV in the course's format.

The header is ``"name","email","age"`` and every field is quoted, as in
the course's file. The same arguments always give the same bytes, and
every email is unique (it ends in the row's number), so any size loads
without duplicates::

    scripts/make_users_csv.py user_data.csv               # 1,000 rows
    scripts/make_users_csv.py big.csv --rows 1000000      # any size
"""
import argparse
import csv
import random
import sys
import unicodedata

FIRST = """Johnnie Myrtle Flora Cecilia Chelsea Seth Thelma Thomas Della
Kristi Brad Isabel Allen Robin Martin Delia Blanca Ellen Bobby Karen Vanessa
Grace Krista Doyle Beth Santos Gina Garry Annie Ross Edmund Willie Felicia
Regina Dominic Leon Maria Tyler Sandra Brent Gabriel Leticia Christina Matthew
Erick Amber Lorena George Shawn Clarence Sean Wilfred Joey Debbie Lora June
Zoë Ōtani Amélie Søren Björn Chloé José Noël Åsa Renée""".split()
LAST = """Mayer Waters Rodriguez Konopelski Lakin Boyle Stoltenberg Mraz Kris
Schinner Hane Hickle Durgan Sawayn Crist Roob Wilkinson Flatley Walker Hudson
Bayer Pfannerstill Kihn Sporer Herzog Paucek Schaden Crooks Botsford Skiles
Kuhic Pfeffer Rogahn Reynolds Funk Bogisich Emard Blanda Jast Rohan Schmeler
Dach Braun Heidenreich Steuber Greenfelder Schuppe Tremblay Berge Bradtke
Dickinson Heathcote Kuhn Müller Ñúñez Gómez Sørensen Łukasik""".split()
TITLES = ["Dr. ", "Mr. ", "Ms. ", "Mrs. "]
SUFFIXES = [" Jr.", " Sr.", " I", " II", " IV", " MD", " DVM"]
DOMAINS = ["gmail.com", "yahoo.com", "hotmail.com"]
LATIN = str.maketrans({"Ł": "L", "ł": "l", "Ø": "O", "ø": "o", "Þ": "Th"})


def ascii_only(text):
    """Spell ``text`` in ASCII for an email address: 'Zoë' -> 'Zoe'."""
    plain = unicodedata.normalize("NFKD", text.translate(LATIN))
    return plain.encode("ascii", "ignore").decode()


def users(rows, seed=2025):
    """Yield ``rows`` (name, email, age) tuples, the same for the same seed.

    >>> next(users(1))[2].isdigit()
    True
    """
    rng = random.Random(seed)
    for number in range(1, rows + 1):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        if rng.random() < 0.15:
            last += "-" + rng.choice(LAST)
        name = first + " " + last
        if rng.random() < 0.06:
            name = rng.choice(TITLES) + name
        if rng.random() < 0.06:
            name += rng.choice(SUFFIXES)
        local = ascii_only(rng.choice([first, first + "." + last,
                                       first + "_" + last]))
        email = f"{local}{number}@{rng.choice(DOMAINS)}"
        yield name, email, str(rng.randint(1, 120))


def main(argv=None):
    """Write the file named on the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", help="where to write the CSV ('-': stdout)")
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args(argv)
    out = (sys.stdout if args.path == "-"
           else open(args.path, "w", encoding="utf-8", newline=""))
    with out:
        writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerow(["name", "email", "age"])
        writer.writerows(users(args.rows, args.seed))


if __name__ == "__main__":
    main()
