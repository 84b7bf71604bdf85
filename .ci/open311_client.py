"""Reads the hotline's Open311 façade with the `georeport` client, as an international civic
app would, after posting a request the way FixMyStreet and `three` post one. Fails loudly on
anything the client or the specification would not accept."""

import os
import xml.etree.ElementTree as ElementTree

import requests
from georeport import GeoReport

ROOT = os.environ["OPEN311_ROOT"]
API_KEY = os.environ["OPEN311_API_KEY"]


def check(condition, what):
    if not condition:
        raise SystemExit(f"FAILED: {what}")
    print(f"ok: {what}")


json_client = GeoReport(ROOT, jurisdiction="county.example.cn", api_key=API_KEY)
xml_client = GeoReport(ROOT, jurisdiction="county.example.cn", output_format="xml")

services = json_client.get_service_list()
check(len(services) > 0, f"{len(services)} services in JSON")
service = next(s for s in services if s.get("group"))
check(
    all(k in service for k in ("service_code", "service_name", "group", "metadata", "type")),
    f"a service carries the specification's fields: {service['service_name']} in {service['group']}",
)
xml_services = xml_client.get_service_list()
check(len(xml_services) == len(services), "the same services in XML")

definition = json_client.get_service_definition(service["service_code"])
codes = [a["code"] for a in definition["attributes"]]
check("type" in codes, f"the service's definition offers its attributes: {codes}")
xml_definition = xml_client.get_service_definition(service["service_code"])
check(xml_definition["service_code"] == service["service_code"], "the definition in XML")

# Posted as FixMyStreet posts it: form-encoded, XML answer, attribute[...] fields.
answer = requests.post(
    f"{ROOT}/requests.xml",
    data={
        "api_key": API_KEY,
        "jurisdiction_id": "county.example.cn",
        "service_code": service["service_code"],
        "lat": "36.4350",
        "long": "118.0550",
        "address_string": "城关镇滨河路12号",
        "description": "滨河路路灯连续三晚不亮",
        "first_name": "三",
        "last_name": "张",
        "email": "zhangsan@example.cn",
        "phone": "13812345678",
        "attribute[type]": "complaint",
    },
    timeout=10,
)
check(answer.status_code == 200, f"the POST is answered 200 ({answer.status_code}: {answer.text[:200]})")
posted = ElementTree.fromstring(answer.content)
check(posted.tag == "service_requests", "the POST answers <service_requests>")
request_id = posted.find("request/service_request_id").text
check(bool(request_id), f"the request is numbered {request_id}")

listed = json_client.get_service_requests(service_code=service["service_code"], status="open")
check(any(r["service_request_id"] == request_id for r in listed), "the request is in the JSON list")
xml_listed = xml_client.get_service_requests(service_request_id=request_id)
xml_listed = xml_listed if isinstance(xml_listed, list) else [xml_listed]
check(xml_listed[0]["service_request_id"] == request_id, "the request is in the XML list")

one = json_client.get_service_request(request_id)
check(one["status"] == "open" and one["service_name"] == service["service_name"], f"the request reads back: {one['status_notes']}")
xml_one = xml_client.get_service_request(request_id)
check(xml_one["service_request_id"] == request_id, "the request reads back in XML")
text = repr(one) + repr(xml_one) + repr(listed)
check(all(p not in text for p in ("张三", "13812345678", "zhangsan@example.cn")), "no personal field in a GET")

try:
    json_client.get_service_request("0000000000")
    check(False, "an unknown request is refused")
except requests.HTTPError as error:
    check(error.response.status_code == 404, "an unknown request is 404")
    check(error.response.json()[0]["code"] == 404, "in the specification's error shape")
print("open311: the georeport client read everything")
