"""Registers the synthetic libraries of synth_catalog.py on a running server (PUT per library,
as an admin), and prints the `--map CODE=ID` arguments of `sportello catalog import`, one per line.

Usage: register_libraries.py LIBRARIES_JSON BASE_URL TOKEN
"""

import json
import sys
import urllib.request


def main():
    libraries, base, token = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
    for library in libraries:
        body = json.dumps({
            "name": f"Biblioteca {library['id']}", "address": "Via di prova 1",
            "postal_code": "16100", "lat": library["lat"], "lon": library["lon"],
            "codes": [library["code"]], "opening_hours": "Mo-Sa 08:00-20:00; Su 09:00-13:00",
        }).encode()
        request = urllib.request.Request(
            f"{base}/v1/municipalities/{library['municipality']}/libraries/{library['id']}",
            data=body, method="PUT",
            headers={"content-type": "application/json", "authorization": f"Bearer {token}"})
        urllib.request.urlopen(request).read()
        print(f"{library['code']}={library['id']}")


if __name__ == "__main__":
    main()
