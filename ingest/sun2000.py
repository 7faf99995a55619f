"""python -m ingest.sun2000: poll a Huawei SUN2000 inverter over Modbus TCP and store its readings.

Device manners: a pause after connecting, one request at a time with a short pause between, retries with
backoff when the device is busy or slow, a reconnect when the connection drops or another client takes it.
A poll that fails writes nothing.
"""

import asyncio
import logging
import time
from datetime import UTC, datetime

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException, ModbusIOException

from ingest import options
from ingest.backoff import Backoff, reconnect_forever
from ingest.registers import INFO_REQUESTS, METRICS, OPTIONAL_BLOCKS, PV_STRINGS, Request, decode_request, poll_requests
from ingest.spool import Reading
from ingest.writer import Writer
from stack import cli

log = logging.getLogger("ingest.sun2000")
TRANSIENT = {4: "device failure", 6: "device busy"}  # Modbus exception codes worth retrying
ILLEGAL_ADDRESS = 2
RETRIES = 3


class BadAnswer(Exception):
    """The device answered a request with something other than the registers asked for."""


class ModbusFailure(BadAnswer):
    """The device answered a request with a Modbus exception."""

    def __init__(self, request: Request, code: int):
        super().__init__(f"registers {request.address}+{request.count}: Modbus exception {code:#04x}")
        self.code = code


class Inverter:
    """One Modbus TCP connection to the inverter, used one request at a time."""

    def __init__(self, host: str, port: int, unit: int, timeout: float, connect_delay: float, pause: float):
        self.host, self.port, self.unit = host, port, unit
        self.timeout, self.connect_delay, self.pause = timeout, connect_delay, pause
        self.client: AsyncModbusTcpClient | None = None

    async def connect(self) -> None:
        """Connect, then give the device the second it needs before it answers."""
        self.client = AsyncModbusTcpClient(self.host, port=self.port, timeout=self.timeout, retries=0,
                                           reconnect_delay=0)
        if not await self.client.connect():
            raise ConnectionError(f"cannot connect to {self.host}:{self.port}")
        log.info("connected to %s:%d (unit %d)", self.host, self.port, self.unit)
        await asyncio.sleep(self.connect_delay)

    def close(self) -> None:
        """Drop the connection."""
        if self.client is not None:
            self.client.close()
            self.client = None

    async def read(self, request: Request) -> list[int]:
        """The registers of one request; busy, failing or silent devices are retried with backoff."""
        backoff = Backoff(0.5, 4.0)
        for attempt in range(RETRIES + 1):
            last = attempt == RETRIES
            try:
                response = await self.client.read_holding_registers(
                    request.address, count=request.count, device_id=self.unit)
            except ModbusIOException:
                if last:
                    raise
                log.info("no answer for registers %d: retrying", request.address)
            else:
                if not response.isError():
                    await asyncio.sleep(self.pause)
                    if len(response.registers) != request.count:
                        raise BadAnswer(f"registers {request.address}+{request.count}: "
                                        f"{len(response.registers)} registers in the answer")
                    return response.registers
                if response.exception_code not in TRANSIENT or last:
                    raise ModbusFailure(request, response.exception_code)
                log.info("%s on registers %d: retrying", TRANSIENT[response.exception_code], request.address)
            await asyncio.sleep(backoff.next())
        raise AssertionError("unreachable")


class Collector:
    """Reads the device description once per connection, then polls the registers every interval."""

    def __init__(self, inverter: Inverter, writer: Writer, interval: float, clock=lambda: datetime.now(UTC)):
        self.inverter, self.writer, self.interval, self.clock = inverter, writer, interval, clock
        self.absent: set[str] = set()
        self.info: dict = {}  # Register -> value, read at connect
        self.plan: dict[str, list[Request]] = {}
        self.polls = 0  # polls written (or spooled): a session that got one is a success

    async def read_info(self) -> None:
        """Model, serial number, rated power and PV strings, logged; the number of strings says what to poll."""
        self.info = {}
        for request in INFO_REQUESTS:
            self.info |= decode_request(request, await self.inverter.read(request))
        values = {f.name: v for f, v in self.info.items()}
        strings = values["nb_pv_strings"]
        if strings is None or strings > PV_STRINGS:
            log.warning("the inverter reports %s PV strings: not reading string values", strings)
            strings = 0
        self.plan = poll_requests(int(strings))
        log.info("inverter %s, serial %s, rated %s W, %d PV strings", values["model_name"], values["serial_number"],
                 values["rated_power"], strings)

    async def poll(self) -> list[Reading]:
        """One reading of every register the device has, all decoded before anything is returned."""
        ts = self.clock()
        decoded = dict(self.info)
        for block, block_requests in self.plan.items():
            if block in self.absent:
                continue
            for request in block_requests:
                try:
                    decoded |= decode_request(request, await self.inverter.read(request))
                except ModbusFailure as error:
                    if block not in OPTIONAL_BLOCKS or error.code != ILLEGAL_ADDRESS:
                        raise
                    log.info("the inverter has no %s registers: not asking again", block)
                    self.absent.add(block)
                    break
        return [Reading(ts, f.metric, float(v)) for f, v in decoded.items() if f.metric and v is not None]

    async def run(self) -> None:
        """Poll forever, reconnecting with backoff whenever the device lets us down, and replay the spool alongside."""
        await asyncio.gather(
            reconnect_forever(self.session, lambda: self.polls, (OSError, ModbusException, BadAnswer), log, "inverter"),
            self.writer.keep_replaying())

    async def session(self) -> None:
        """Connect, read the device description, then poll every interval until the connection fails."""
        try:
            await self.inverter.connect()
            await self.read_info()
            while True:
                started = time.monotonic()
                await self.writer.write(await self.poll())
                self.polls += 1
                await asyncio.sleep(max(0.0, self.interval - (time.monotonic() - started)))
        finally:
            self.inverter.close()


def main(argv: list[str] | None = None) -> None:
    """Parse options and poll until interrupted."""
    parser = options.parser("Poll a Huawei SUN2000 inverter over Modbus TCP and store its readings.")
    parser.add_argument("--host", action=options.EnvDefault, env="SUN2000_HOST", help="the inverter's address")
    parser.add_argument("--port", action=options.EnvDefault, env="SUN2000_PORT", default=502,
                        type=options.port, help="Modbus TCP port (6607 on the inverter's own access point)")
    parser.add_argument("--unit-id", action=options.EnvDefault, env="SUN2000_UNIT_ID", default=1, type=int,
                        choices=range(0, 248), metavar="0-247",
                        help="Modbus unit id: 0 on the inverter's access point, 1 through an SDongle")
    parser.add_argument("--interval", action=options.EnvDefault, env="SUN2000_INTERVAL", default=10.0,
                        type=options.positive(), help="seconds between polls")
    parser.add_argument("--timeout", action=options.EnvDefault, env="SUN2000_TIMEOUT", default=8.0,
                        type=options.positive(), help="seconds to wait for an answer (an SDongle can be slow)")
    parser.add_argument("--connect-delay", action=options.EnvDefault, env="SUN2000_CONNECT_DELAY", default=1.0,
                        type=float, help="seconds to wait after connecting before the first request")
    parser.add_argument("--pause", action=options.EnvDefault, env="SUN2000_PAUSE", default=0.05, type=float,
                        help="seconds between requests")
    args = parser.parse_args(argv)
    if not args.host:
        parser.error("no inverter address: set SUN2000_HOST or pass --host")
    options.setup_logging(args.log_level)
    inverter = Inverter(args.host, args.port, args.unit_id, args.timeout, args.connect_delay, args.pause)
    writer = options.writer(args, "sun2000", METRICS)
    try:
        asyncio.run(Collector(inverter, writer, args.interval).run())
    except KeyboardInterrupt:
        log.info("stopped")


if __name__ == "__main__":
    cli.run(main)
