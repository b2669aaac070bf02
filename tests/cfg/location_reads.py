"""Locations read (the header's ``accessed``, from ``reads.py``), and a call inside a location
chain: ``body.get("store").lower`` still calls ``body.get`` (an event), and reads the location
``body["store"].lower``; a store's receiver is read, the stored-to location is not."""


def handler(request, body):
    if request.store and body.get("store").lower() != "no":
        save(body["item"])
    request.meta["seen"] = True
    items = [x.store for x in body.get("items", [])]
