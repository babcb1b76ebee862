"""Reading QR codes back with a decoder that is not the encoder (zxing-cpp), for the tests.

PNG is unpacked here with zlib alone (no imaging library), and segno's SVG path is traced back
into its module matrix, so each form is checked without trusting the code that drew it.
"""

from __future__ import annotations

import re
import struct
import zlib
from xml.etree import ElementTree

import zxingcpp

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_pixels(data: bytes) -> tuple[int, int, bytes]:
    """(width, height, one grey byte per pixel) of a non-interlaced greyscale or palette PNG."""
    assert data.startswith(PNG_SIGNATURE), "not a PNG"
    offset, chunks, header, palette = 8, [], b"", b""
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        payload = data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        assert zlib.crc32(kind + payload) == crc, f"bad CRC in {kind!r}"
        if kind == b"IHDR":
            header = payload
        elif kind == b"PLTE":
            palette = payload
        elif kind == b"IDAT":
            chunks.append(payload)
        offset += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert colour in (0, 3) and interlace == 0, (colour, interlace)
    raw = zlib.decompress(b"".join(chunks))
    stride = (width * depth + 7) // 8
    rows, previous, at = [], bytearray(stride), 0
    for _ in range(height):
        kind, line = raw[at], bytearray(raw[at + 1 : at + 1 + stride])
        at += 1 + stride
        _unfilter(kind, line, previous)
        rows.append(bytes(line))
        previous = line
    pixels = bytearray()
    for line in rows:
        for x in range(width):
            bit_at = x * depth
            value = (line[bit_at // 8] >> (8 - depth - bit_at % 8)) & ((1 << depth) - 1)
            if colour == 3:
                value = palette[3 * value]  # the red channel of a grey palette entry
            elif depth < 8:
                value = value * 255 // ((1 << depth) - 1)
            pixels.append(value)
    return width, height, bytes(pixels)


def _unfilter(kind: int, line: bytearray, previous: bytearray) -> None:
    for i in range(len(line)):
        left = line[i - 1] if i else 0
        up = previous[i]
        corner = previous[i - 1] if i else 0
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 2:
            line[i] = (line[i] + up) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + (left + up) // 2) & 0xFF
        elif kind == 4:
            p = left + up - corner
            pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
            predictor = left if pa <= pb and pa <= pc else up if pb <= pc else corner
            line[i] = (line[i] + predictor) & 0xFF


def decode_png(data: bytes) -> list[str]:
    width, height, pixels = png_pixels(data)
    image = memoryview(pixels).cast("B", (height, width))
    return [found.text for found in zxingcpp.read_barcodes(image)]


def svg_modules(svg: bytes) -> tuple[int, int, set[tuple[int, int]]]:
    """(width, height in modules, dark modules) traced from segno's one-path SVG."""
    root = ElementTree.fromstring(svg)  # well-formed XML, or this raises
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    (path,) = root.iter("{http://www.w3.org/2000/svg}path")
    scale_match = re.fullmatch(r"scale\((\d+)\)", path.get("transform") or "scale(1)")
    assert scale_match is not None
    scale = int(scale_match.group(1))
    dark: set[tuple[int, int]] = set()
    x = y = 0.0
    for command, a, b in re.findall(r"([MmHhVv])(-?[\d.]+)(?: (-?[\d.]+))?", path.get("d", "")):
        if command == "M":
            x, y = float(a), float(b)
        elif command == "m":
            x, y = x + float(a), y + float(b)
        elif command == "h":
            for step in range(int(float(a))):
                dark.add((int(x) + step, int(y)))
            x += float(a)
        else:
            raise AssertionError(f"unexpected path command {command}")
    return int(root.get("width", "0")) // scale, int(root.get("height", "0")) // scale, dark


def modules_to_pixels(width: int, height: int, dark: set[tuple[int, int]], scale: int) -> bytes:
    """A greyscale image of the traced modules, `scale` pixels per module."""
    pixels = bytearray()
    for py in range(height * scale):
        for px in range(width * scale):
            pixels.append(0 if (px // scale, py // scale) in dark else 255)
    return bytes(pixels)


def decode_svg(svg: bytes, scale: int = 4) -> list[str]:
    width, height, dark = svg_modules(svg)
    image = memoryview(modules_to_pixels(width, height, dark, scale)).cast(
        "B", (height * scale, width * scale)
    )
    return [found.text for found in zxingcpp.read_barcodes(image)]
