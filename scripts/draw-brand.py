#!/usr/bin/env python3
"""Draw the integration's brand images (HACS brands check, HA 2026.3+ local brand)."""

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

OUT = Path(__file__).resolve().parents[1] / "custom_components" / "eflux" / "brand"
GREEN, DARK = (22, 163, 74, 255), (15, 23, 42, 255)


def icon(size: int) -> Image.Image:
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    s = size / 256
    d.rounded_rectangle([8 * s, 8 * s, 248 * s, 248 * s], radius=48 * s, fill=GREEN)
    bolt = [(146, 28), (70, 142), (120, 142), (104, 228), (186, 108), (134, 108), (156, 28)]
    d.polygon([(x * s, y * s) for x, y in bolt], fill=(255, 255, 255, 255))
    return img


def logo(height: int) -> Image.Image:
    width = height * 4
    img = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    img.paste(icon(height), (0, 0))
    d = ImageDraw.Draw(img)
    try:
        font = ImageFont.truetype("DejaVuSans-Bold.ttf", int(height * 0.42))
    except OSError:
        font = ImageFont.load_default(size=int(height * 0.42))
    d.text((height * 1.15, height * 0.26), "E-Flux Local", font=font, fill=DARK)
    return img


icon(256).save(OUT / "icon.png", optimize=True)
icon(512).save(OUT / "icon@2x.png", optimize=True)
logo(128).save(OUT / "logo.png", optimize=True)
logo(256).save(OUT / "logo@2x.png", optimize=True)
