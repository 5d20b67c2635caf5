"""How far behind a consumer group is on a topic: messages not yet committed."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

if TYPE_CHECKING:
    from platform_settings import KafkaSettings


class GroupLag:
    """Messages of `topic` that `group_id` has not committed yet, over all partitions.

    Reads the group's committed offsets (OffsetFetch) and the partitions' ends
    (ListOffsets); it joins no group and commits nothing.
    """

    def __init__(self, settings: KafkaSettings, *, group_id: str, topic: str) -> None:
        self._group_id = group_id
        self._topic = topic
        self._admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
        self._reader = AIOKafkaConsumer(
            bootstrap_servers=settings.bootstrap_servers, enable_auto_commit=False
        )
        self._partitions: list[TopicPartition] = []
        self._started = False
        self._starting = asyncio.Lock()

    async def stop(self) -> None:
        """Close both clients (if the first question ever started them)."""
        if self._started:
            await self._reader.stop()
            await self._admin.close()

    async def _start(self) -> None:
        # On first use, not at service start: a broker that is still coming up fails a
        # question (an outage the caller retries), never the service's boot.
        async with self._starting:
            if not self._started:
                await self._admin.start()
                await self._reader.start()
                self._started = True

    async def messages_behind(self) -> int:
        """Messages past the group's committed offsets (all of them before its first commit)."""
        await self._start()
        if not self._partitions:
            numbers = self._reader.partitions_for_topic(self._topic)
            if not numbers:
                await self._reader.topics()  # refreshes metadata
                numbers = self._reader.partitions_for_topic(self._topic) or set()
            self._partitions = [TopicPartition(self._topic, n) for n in sorted(numbers)]
        if not self._partitions:
            return 0
        ends = await self._reader.end_offsets(self._partitions)
        committed = await self._admin.list_consumer_group_offsets(
            self._group_id, partitions=self._partitions
        )
        behind = 0
        for partition in self._partitions:
            position = committed.get(partition)
            done = position.offset if position is not None and position.offset >= 0 else 0
            behind += max(0, ends.get(partition, 0) - done)
        return behind
