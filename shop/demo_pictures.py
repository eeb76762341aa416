"""The demo catalogue's product photos, drawn with Pillow at seed time.

Each picture is a studio shot: a soft backdrop, a table edge, the product and its shadow
(a jar of shea butter with its label, a kraft coffee bag, folded wax prints, …). They are
drawn by this module, so they carry the project's own licence: nothing is downloaded.
Drawing and resizing take a few seconds, so the results are kept for the process.
"""
from __future__ import annotations

import io
import math
import random
from functools import cache
from typing import cast

from PIL import Image, ImageDraw, ImageFilter, ImageFont

W, H = 1280, 960
TABLE_Y = 640


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _backdrop(wall: tuple, table: tuple) -> Image.Image:
    """A wall lit from the top left and a table top, each a gentle gradient."""
    image = Image.new("RGB", (W, H), wall)
    light = Image.radial_gradient("L").resize((W * 2, H * 2)).crop((W // 2, H // 3, W // 2 + W, H // 3 + H))
    shade = Image.new("RGB", (W, H), tuple(max(0, c - 38) for c in wall))
    image = Image.composite(shade, image, light)
    top = Image.new("RGB", (W, H - TABLE_Y), table)
    fade = Image.linear_gradient("L").resize((W, H - TABLE_Y)).point(lambda v: v // 4)
    top = Image.composite(Image.new("RGB", top.size, tuple(max(0, c - 30) for c in table)), top, fade)
    image.paste(top, (0, TABLE_Y))
    return image


def _shadow(image: Image.Image, box: tuple, strength: int = 110) -> None:
    """A soft contact shadow (an ellipse, blurred) under an object."""
    mask = Image.new("L", (W, H), 0)
    ImageDraw.Draw(mask).ellipse(box, fill=strength)
    mask = mask.filter(ImageFilter.GaussianBlur(28))
    image.paste(Image.new("RGB", (W, H), (40, 30, 22)), (0, 0), mask)


def _shine(image: Image.Image, box: tuple, opacity: int = 70) -> None:
    """A blurred highlight: what makes glass, metal and plastic look round."""
    mask = Image.new("L", (W, H), 0)
    ImageDraw.Draw(mask).rounded_rectangle(box, radius=18, fill=opacity)
    image.paste((255, 255, 255), (0, 0), mask.filter(ImageFilter.GaussianBlur(10)))


def _text(draw: ImageDraw.ImageDraw, centre: tuple, text: str, size: int, fill) -> None:
    draw.text(centre, text, font=_font(size), fill=fill, anchor="mm")


def _wax(size: tuple, base, ink, accent, seed: int) -> Image.Image:
    """A wax print: rows of circles and petals on a coloured ground."""
    rnd = random.Random(seed)
    tile = Image.new("RGB", size, base)
    draw = ImageDraw.Draw(tile)
    step = 70
    for y in range(-step, size[1] + step, step):
        for x in range(-step, size[0] + step, step):
            cx, cy = x + (step // 2 if (y // step) % 2 else 0), y
            draw.ellipse((cx - 26, cy - 26, cx + 26, cy + 26), fill=ink)
            draw.ellipse((cx - 14, cy - 14, cx + 14, cy + 14), fill=accent)
            for a in range(0, 360, 60):
                px = cx + 38 * math.cos(math.radians(a + rnd.randint(0, 8)))
                py = cy + 38 * math.sin(math.radians(a))
                draw.ellipse((px - 6, py - 6, px + 6, py + 6), fill=accent)
    return tile


def _stripes(size: tuple, colours: list, width: int) -> Image.Image:
    tile = Image.new("RGB", size, colours[0])
    draw = ImageDraw.Draw(tile)
    for i, x in enumerate(range(0, size[0], width)):
        draw.rectangle((x, 0, x + width, size[1]), fill=colours[i % len(colours)])
        draw.line((x + width // 2, 0, x + width // 2, size[1]), fill=colours[(i + 1) % len(colours)], width=3)
    return tile


def _fabric_stack(image: Image.Image, prints: list[Image.Image]) -> None:
    """Folded lengths of cloth piled on the table, each showing its print."""
    _shadow(image, (250, 690, 1030, 800))
    y = 700
    for i, cloth in enumerate(prints):
        h = 120
        x0, x1 = 300 + i * 12, 980 - i * 12
        fold = cloth.crop((0, 0, x1 - x0, h))
        image.paste(fold, (x0, y - h))
        draw = ImageDraw.Draw(image)
        edge = cast("tuple[int, ...]", cloth.getpixel((5, 5)))  # an RGB image: a tuple per pixel
        draw.rectangle((x0, y - h, x1, y - h + 10), fill=tuple(min(255, c + 40) for c in edge))
        draw.line((x0, y, x1, y), fill=(60, 40, 30), width=3)
        y -= h + 4


def _jar(image: Image.Image, body, lid, label, words: list[str]) -> None:
    draw = ImageDraw.Draw(image)
    _shadow(image, (400, 690, 880, 780))
    draw.rounded_rectangle((430, 360, 850, 740), radius=60, fill=body)
    draw.rounded_rectangle((410, 290, 870, 380), radius=24, fill=lid)
    draw.rectangle((410, 360, 870, 372), fill=tuple(max(0, c - 40) for c in lid))
    draw.rounded_rectangle((460, 450, 820, 650), radius=14, fill=label)
    _text(draw, (640, 510), words[0], 60, (70, 45, 25))
    for n, line in enumerate(words[1:]):
        _text(draw, (640, 575 + n * 40), line, 30, (110, 80, 50))
    _shine(image, (470, 400, 500, 700))


def _bottle(image: Image.Image, glass, cap, label, words: list[str]) -> None:
    draw = ImageDraw.Draw(image)
    _shadow(image, (480, 700, 800, 780))
    draw.rounded_rectangle((500, 330, 780, 745), radius=50, fill=glass)
    draw.polygon([(560, 330), (720, 330), (690, 250), (590, 250)], fill=glass)
    draw.rounded_rectangle((585, 170, 695, 260), radius=12, fill=cap)
    draw.rounded_rectangle((520, 450, 760, 640), radius=10, fill=label)
    _text(draw, (640, 510), words[0], 44, (60, 50, 30))
    _text(draw, (640, 580), words[1], 30, (100, 80, 50))
    _shine(image, (520, 360, 550, 720), 90)


def _bag(image: Image.Image) -> None:
    draw = ImageDraw.Draw(image)
    _shadow(image, (400, 700, 880, 790))
    kraft = (176, 132, 88)
    draw.polygon([(430, 330), (850, 330), (880, 750), (400, 750)], fill=kraft)
    draw.rectangle((430, 250, 850, 340), fill=(160, 118, 76))
    for y in (270, 300):
        draw.line((430, y, 850, y), fill=(140, 100, 62), width=4)
    draw.rounded_rectangle((480, 430, 800, 660), radius=12, fill=(32, 60, 48))
    _text(draw, (640, 490), "CAFE", 64, (236, 220, 180))
    _text(draw, (640, 560), "du Rwanda", 36, (236, 220, 180))
    _text(draw, (640, 615), "Huye · 250 g", 28, (200, 185, 150))
    for bean in range(6):
        x = 260 + bean * 28 + (bean % 2) * 12
        y = 745 - (bean % 3) * 14
        draw.ellipse((x, y, x + 34, y + 24), fill=(70, 40, 22))
        draw.line((x + 6, y + 12, x + 28, y + 12), fill=(40, 22, 12), width=3)


def _basket(image: Image.Image) -> None:
    draw = ImageDraw.Draw(image)
    _shadow(image, (420, 700, 860, 790))
    colours = [(214, 186, 140), (40, 36, 34), (176, 60, 46)]
    for i, y in enumerate(range(480, 750, 30)):
        inset = (y - 480) // 10
        draw.rectangle((460 + inset, y, 820 - inset, y + 30), fill=colours[i % 3 if i % 2 else 0])
    for i, y in enumerate(range(180, 480, 30)):
        half = 40 + (y - 180) * 0.6
        draw.rectangle((640 - half, y, 640 + half, y + 30), fill=colours[(i // 2) % 3])
    draw.ellipse((620, 150, 660, 190), fill=(40, 36, 34))


def _bowl(image: Image.Image, outside, inside, fill_spec=None) -> None:
    draw = ImageDraw.Draw(image)
    _shadow(image, (340, 700, 940, 790))
    draw.pieslice((340, 300, 940, 900), 0, 180, fill=outside)
    draw.ellipse((340, 540, 940, 660), fill=inside)
    if fill_spec:
        colour, dots, seed = fill_spec
        rnd = random.Random(seed)
        draw.ellipse((360, 520, 920, 640), fill=colour)
        for _ in range(dots):
            x, y = rnd.randint(400, 880), rnd.randint(520, 630)
            draw.ellipse((x, y, x + 26, y + 18), fill=tuple(max(0, c - rnd.randint(10, 60)) for c in colour))
    for k in range(5):  # pyrography-like bands
        y = 660 + k * 26
        half = math.sqrt(max(0, 300 ** 2 - (y - 600) ** 2))
        draw.line((640 - half + 20, y, 640 + half - 20, y), fill=(90, 50, 20), width=4)


def _canari(image: Image.Image) -> None:
    draw = ImageDraw.Draw(image)
    _shadow(image, (390, 710, 890, 800))
    clay = (170, 86, 50)
    draw.ellipse((380, 280, 900, 770), fill=clay)
    draw.rectangle((540, 220, 740, 320), fill=(156, 78, 44))
    draw.ellipse((530, 200, 750, 250), fill=(120, 58, 30))
    for k in range(3):
        y = 420 + k * 40
        draw.arc((420, y - 120, 860, y + 120), 20, 160, fill=(120, 58, 32), width=6)
    _shine(image, (450, 380, 490, 600), 50)


def _teapot(image: Image.Image) -> None:
    draw = ImageDraw.Draw(image)
    _shadow(image, (420, 700, 860, 780))
    metal, dark = (198, 200, 204), (140, 142, 148)
    draw.polygon([(760, 560), (960, 380), (985, 395), (800, 620)], fill=metal)
    draw.arc((330, 420, 520, 640), 90, 270, fill=dark, width=26)
    draw.ellipse((440, 420, 840, 760), fill=metal)
    draw.polygon([(520, 450), (760, 450), (700, 340), (580, 340)], fill=dark)
    draw.ellipse((615, 300, 665, 350), fill=metal)
    for k in range(4):
        draw.arc((470, 470 + k * 40, 810, 720 + k * 10), 200, 340, fill=(165, 140, 90), width=4)
    _shine(image, (500, 480, 540, 700), 120)


def _soap(image: Image.Image) -> None:
    draw = ImageDraw.Draw(image)
    _shadow(image, (340, 690, 940, 790))
    draw.ellipse((330, 560, 950, 760), fill=(98, 140, 60))  # a banana leaf
    draw.line((350, 660, 930, 660), fill=(70, 110, 40), width=6)
    draw.ellipse((450, 430, 830, 720), fill=(46, 36, 30))
    draw.ellipse((500, 470, 700, 560), fill=(66, 54, 46))
    _shine(image, (520, 480, 640, 510), 40)


def _shirt(image: Image.Image) -> None:
    pattern = _wax((700, 700), (22, 92, 150), (244, 180, 30), (230, 60, 40), 7)
    mask = Image.new("L", (700, 700), 0)
    draw = ImageDraw.Draw(mask)
    draw.polygon([(200, 60), (500, 60), (690, 200), (610, 310), (540, 260), (540, 680),
                  (160, 680), (160, 260), (90, 310), (10, 200)], fill=255)
    _shadow(image, (360, 760, 920, 840), 80)
    image.paste(pattern, (290, 140), mask)
    line = ImageDraw.Draw(image)
    line.polygon([(580, 200), (640, 270), (700, 200)], fill=(240, 232, 220))
    line.line((640, 270, 640, 820), fill=(14, 60, 100), width=4)
    for y in range(330, 820, 90):
        line.ellipse((648, y, 664, y + 16), fill=(240, 232, 220))


def _cushion(image: Image.Image) -> None:
    bogolan = Image.new("RGB", (520, 520), (88, 62, 40))
    draw = ImageDraw.Draw(bogolan)
    for x in range(0, 520, 104):
        for y in range(0, 520, 104):
            draw.rectangle((x + 10, y + 10, x + 94, y + 94), outline=(232, 220, 196), width=6)
            draw.line((x + 20, y + 52, x + 84, y + 52), fill=(232, 220, 196), width=5)
            draw.ellipse((x + 44, y + 20, x + 60, y + 36), fill=(232, 220, 196))
    mask = Image.new("L", (520, 520), 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, 519, 519), radius=70, fill=255)
    _shadow(image, (360, 700, 920, 800))
    image.paste(bogolan.rotate(0), (380, 200), mask)


def _pepper(image: Image.Image) -> None:
    _jar(image, (232, 228, 214), (40, 40, 44), (250, 246, 236), ["PENJA", "poivre blanc", "100 g"])
    draw = ImageDraw.Draw(image)
    rnd = random.Random(3)
    for _ in range(90):
        x, y = rnd.randint(180, 380), rnd.randint(700, 770)
        draw.ellipse((x, y, x + 18, y + 18), fill=(214, 200, 170))


def _products() -> dict:
    wall, table = (238, 230, 216), (196, 160, 120)
    wax = lambda b, i, a, s: _wax((900, 200), b, i, a, s)  # noqa: E731
    return {
        "pagne-wax-6-yards": ((244, 236, 224), table, lambda im: _fabric_stack(im, [
            wax((200, 40, 40), (250, 190, 40), (30, 90, 160), 1), wax((30, 110, 80), (250, 230, 200), (220, 90, 30), 2),
            wax((250, 170, 30), (120, 30, 60), (40, 40, 40), 3)])),
        "faso-dan-fani": ((236, 232, 222), (180, 146, 110), lambda im: _fabric_stack(im, [
            _stripes((900, 200), [(30, 40, 90), (230, 200, 60), (200, 60, 40)], 36),
            _stripes((900, 200), [(240, 236, 226), (40, 40, 40)], 22),
            _stripes((900, 200), [(170, 40, 50), (240, 180, 40), (30, 100, 60)], 30)])),
        "bogolan-coussin": ((232, 226, 214), table, _cushion),
        "kitenge-chemise": ((236, 234, 230), (170, 150, 130), _shirt),
        "panier-agaseke": ((240, 234, 222), (150, 116, 84), _basket),
        "calebasse-decoree": ((242, 232, 214), (120, 90, 70), lambda im: _bowl(im, (214, 160, 90), (170, 120, 60))),
        "canari-terre-cuite": ((236, 226, 210), (140, 110, 84), _canari),
        "theiere-touareg": ((226, 224, 222), (96, 70, 54), _teapot),
        "beurre-de-karite": (wall, table, lambda im: _jar(
            im, (246, 238, 214), (176, 120, 60), (250, 244, 228), ["KARITE", "beurre brut", "250 g"])),
        "savon-noir": ((232, 228, 220), (180, 150, 120), _soap),
        "huile-de-baobab": ((240, 236, 226), (170, 136, 100), lambda im: _bottle(
            im, (222, 170, 60), (60, 50, 40), (246, 240, 226), ["BAOBAB", "huile vierge 100 ml"])),
        "bissap-seche": ((242, 230, 222), (160, 120, 90), lambda im: _bowl(
            im, (200, 150, 90), (150, 100, 60), ((130, 16, 40), 140, 5))),
        "cafe-rwanda": ((234, 228, 216), table, _bag),
        "poivre-penja": ((236, 234, 226), (150, 120, 96), _pepper),
    }


def draw(slug: str) -> Image.Image | None:
    """The demo photo of product ``slug`` (1280 × 960), or None for a product not in the demo."""
    spec = _products().get(slug)
    if spec is None:
        return None
    wall, table, paint = spec
    image = _backdrop(wall, table)
    paint(image)
    return image


@cache
def png(slug: str) -> bytes | None:
    """The demo photo as PNG bytes (what an upload would carry), kept for the process."""
    image = draw(slug)
    if image is None:
        return None
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=1)
    return out.getvalue()
