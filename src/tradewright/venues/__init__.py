"""Real venues: adapters that implement the engine's ports (`ExecutionClient`, `VenueStatePort`) over a
venue's own wire protocol. Each venue package has the same files: config, schemas, parsing (pure),
data, execution, factory."""

__all__: list[str] = []
