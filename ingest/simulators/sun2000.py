"""python -m ingest.simulators.sun2000: a Modbus TCP server with a SUN2000 inverter's holding registers.

Like the device, it serves one client at a time (a new connection closes the previous one) and answers
exception 2 to a read that touches registers it does not have (holes of fewer than 16 registers between its
fields read as 0, as on real firmwares); options make it answer busy or slowly and drop connections.
"""

import argparse
import asyncio
import logging
from datetime import UTC, datetime

from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from ingest.options import EnvDefault, Parser, setup_logging
from ingest.registers import BY_NAME, MAX_GAP, PV_STRINGS, encode
from ingest.simulators.inverter import InverterModel
from stack import cli, settings

log = logging.getLogger("simulators.sun2000")


def spans(fields) -> list[tuple[int, int]]:
    """(address, count) of the ranges a device with these fields answers: the fields and the small holes between."""
    merged: list[list[int]] = []
    for field in sorted(fields, key=lambda f: f.address):
        if merged and field.address - merged[-1][1] < MAX_GAP:
            merged[-1][1] = max(merged[-1][1], field.address + field.count)
        else:
            merged.append([field.address, field.address + field.count])
    return [(start, end - start) for start, end in merged]


class OneClientServer(ModbusTcpServer):
    """A Modbus TCP server that closes the previous connection when a new client connects, as the inverter does."""

    def callback_new_connection(self):
        """Drop whoever was connected before."""
        for connection in list(self.active_connections.values()):
            connection.close()
        return super().callback_new_connection()


class Simulator:
    """The register map of an InverterModel, recomputed on every request, with optional faults."""

    def __init__(self, model: InverterModel, clock=lambda: datetime.now(UTC), busy_every: int = 0,
                 slow_every: int = 0, slow_seconds: float = 0.0):
        self.model, self.clock = model, clock
        self.busy_every, self.slow_every, self.slow_seconds = busy_every, slow_every, slow_seconds
        self.requests = 0
        self.reads: list[tuple[int, int]] = []  # (address, count) of every read answered, for tests

    def registers(self) -> dict[int, int]:
        """Every register address -> raw word for the model's values now."""
        words = {}
        for name, value in self.model.values(self.clock()).items():
            field = BY_NAME[name]
            for offset, word in enumerate(encode(field, value)):
                words[field.address + offset] = word
        return words

    async def action(self, function_code, start_address, address, count, current_registers, set_values):
        """Called by pymodbus on every valid request: fill the registers, or answer busy, or take our time."""
        self.requests += 1
        if self.busy_every and self.requests % self.busy_every == 0:
            return ExcCodes.DEVICE_BUSY
        if self.slow_every and self.requests % self.slow_every == 0:
            await asyncio.sleep(self.slow_seconds)
        self.reads.append((address, count))
        words = self.registers()
        for offset in range(address - start_address, address - start_address + count):
            current_registers[offset] = words.get(start_address + offset, 0)
        return None

    def device(self, unit_id: int) -> SimDevice:
        """The pymodbus device with the registers the model has; any other address answers exception 2."""
        fields = [BY_NAME[name] for name in self.model.values(self.clock())]
        data = [SimData(start, count=count, values=0, datatype=DataType.REGISTERS) for start, count in spans(fields)]
        return SimDevice(id=unit_id, simdata=data, action=self.action)


async def drop_connections(server: ModbusTcpServer, every: float) -> None:
    """Close every client connection regularly (a flaky Wi-Fi link)."""
    while True:
        await asyncio.sleep(every)
        for connection in list(server.active_connections.values()):
            connection.close()


async def serve(args: argparse.Namespace) -> None:
    """Serve until cancelled."""
    model = InverterModel(now=datetime.now(UTC), strings=args.strings, meter=args.meter, battery=args.battery)
    simulator = Simulator(model, busy_every=args.busy_every, slow_every=args.slow_every, slow_seconds=args.slow)
    server = OneClientServer(simulator.device(args.unit_id), address=(args.host, args.port))
    await server.serve_forever(background=True)
    log.info("SUN2000 simulator listening on %s:%d (unit %d)", args.host, args.port, args.unit_id)
    if args.drop_every:
        await drop_connections(server, args.drop_every)
    await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    """Parse options and serve until interrupted."""
    settings.load_dotenv()
    parser = Parser("Simulate a Huawei SUN2000 inverter over Modbus TCP.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", action=EnvDefault, env="SIMULATOR_PORT", default=5020, type=int, help="TCP port")
    parser.add_argument("--unit-id", type=int, default=1, help="Modbus unit id to answer as (0 answers any)")
    parser.add_argument("--strings", type=int, default=2, choices=range(1, PV_STRINGS + 1), metavar=f"1-{PV_STRINGS}",
                        help="number of PV strings (default 2)")
    parser.add_argument("--meter", action="store_true", help="with a power meter block (37100...)")
    parser.add_argument("--battery", action="store_true", help="with a battery block (37758...)")
    parser.add_argument("--busy-every", type=int, default=0, metavar="N", help="answer every Nth request busy")
    parser.add_argument("--slow-every", type=int, default=0, metavar="N", help="answer every Nth request late")
    parser.add_argument("--slow", type=float, default=2.0, help="how late, in seconds")
    parser.add_argument("--drop-every", type=float, default=0.0, metavar="S", help="drop connections every S s")
    args = parser.parse_args(argv)
    setup_logging(args.log_level)
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        log.info("stopped")


if __name__ == "__main__":
    cli.run(main)
