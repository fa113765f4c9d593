"""Point in polygon by shapely (GEOS), the oracle of server/tests/alerts.rs.

Reads {"polygons": [[[lat, lon], ...], ...], "points": [[lat, lon], ...]} on stdin and prints
{"inside": [[bool per point] per polygon]}: whether each point lies in each polygon or on its
border (`intersects`, as Sportello counts a point on the border as inside).
"""

import json
import sys

from shapely.geometry import Point, Polygon


def main():
    request = json.load(sys.stdin)
    points = [Point(lon, lat) for lat, lon in request["points"]]
    inside = []
    for vertices in request["polygons"]:
        polygon = Polygon([(lon, lat) for lat, lon in vertices])
        assert polygon.is_valid, "the test sends valid polygons"
        inside.append([polygon.intersects(point) for point in points])
    json.dump({"inside": inside}, sys.stdout)


if __name__ == "__main__":
    main()
