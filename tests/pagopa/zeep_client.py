"""Calls Sportello's paForNode endpoint with a SOAP client that zeep builds from the official WSDL.

Usage: zeep_client.py BASE_URL CREDITOR BROKER STATION NOTICE
Prints one JSON object: the outcome of paVerifyPaymentNotice, paGetPaymentV2 and paSendRTV2 (and a
second paSendRTV2 of the same receipt), as zeep parsed them (zeep validates types while parsing).
"""
import datetime
import json
import pathlib
import sys
import uuid

import zeep
from zeep.helpers import serialize_object

WSDL = pathlib.Path(__file__).parent / "xsd" / "wsdl" / "paForNode.wsdl"
BINDING = "{http://pagopa-api.pagopa.gov.it/paForNode}paForNodeBinding"


def fault(response):
    return response.fault.faultCode if response.fault is not None else None


def main():
    base, creditor, broker, station, notice = sys.argv[1:6]
    client = zeep.Client(str(WSDL), settings=zeep.Settings(strict=True, xml_huge_tree=False))
    service = client.create_service(BINDING, f"{base}/pagopa/paForNode")
    ids = dict(idPA=creditor, idBrokerPA=broker, idStation=station)
    qr = dict(fiscalCode=creditor, noticeNumber=notice)

    verify = service.paVerifyPaymentNotice(**ids, qrCode=qr)
    out = {"verify": verify.outcome, "verify_fault": fault(verify)}
    if verify.outcome != "OK":
        print(json.dumps(out))
        return
    option = verify.paymentList.paymentOptionDescription
    out["amount"] = str(option.amount)
    out["company"] = verify.companyName

    unknown = service.paVerifyPaymentNotice(**ids, qrCode=dict(fiscalCode=creditor, noticeNumber="301999999999999982"))
    out["unknown_fault"] = fault(unknown)

    got = service.paGetPaymentV2(**ids, qrCode=qr, amount=option.amount)
    out["get"] = got.outcome
    data = got.data
    out["iuv"] = data.creditorReferenceId
    transfers = []
    for t in data.transferList.transfer:
        transfers.append(dict(idTransfer=t.idTransfer, transferAmount=t.transferAmount, fiscalCodePA=t.fiscalCodePA,
                              IBAN=t.IBAN, remittanceInformation=t.remittanceInformation,
                              transferCategory=t.transferCategory))
    receipt = dict(
        receiptId=uuid.uuid4().hex, noticeNumber=notice, fiscalCode=creditor, outcome="OK",
        creditorReferenceId=data.creditorReferenceId, paymentAmount=data.paymentAmount,
        description=data.description, companyName=data.companyName,
        debtor=serialize_object(data.debtor), transferList=dict(transfer=transfers),
        idPSP="ZEEPPSP", PSPCompanyName="zeep PSP", idChannel="ZEEPPSP_01", channelDescription="zeep",
        paymentMethod="creditCard", fee="0.50",
        paymentDateTime=datetime.datetime(2026, 11, 26, 10, 30, 0, tzinfo=datetime.timezone.utc),
    )
    sent = service.paSendRTV2(**ids, receipt=receipt)
    again = service.paSendRTV2(**ids, receipt=receipt)
    out["send"] = sent.outcome
    out["send_again"] = again.outcome
    after = service.paVerifyPaymentNotice(**ids, qrCode=qr)
    out["after_fault"] = fault(after)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
