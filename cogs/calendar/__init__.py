from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.app import AttacheBot


async def setup(bot: AttacheBot) -> None:
    from cogs.calendar.cog import Calendar

    await bot.add_cog(Calendar(bot))
