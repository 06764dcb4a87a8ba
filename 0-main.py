#!/usr/bin/env python3
"""Create the database and table, load user_data.csv, show five rows."""
seed = __import__("seed")


def main():
    """Seed the database the course's way, then show it is there."""
    connection = seed.connect_db()
    if not connection:
        raise SystemExit(1)
    seed.create_database(connection)
    connection.close()
    print("connection successful")
    connection = seed.connect_to_prodev()
    if not connection:
        raise SystemExit(1)
    try:
        seed.create_table(connection)
        seed.insert_data(connection, "user_data.csv")
        cursor = connection.cursor()
        cursor.execute("SELECT SCHEMA_NAME FROM INFORMATION_SCHEMA.SCHEMATA "
                       "WHERE SCHEMA_NAME = %s", (connection.database,))
        if cursor.fetchone():
            print(f"Database {connection.database} is present ")
        cursor.execute("SELECT * FROM user_data ORDER BY user_id LIMIT 5")
        print(cursor.fetchall())
        cursor.close()
    finally:
        connection.close()


if __name__ == "__main__":
    seed.run(main)
