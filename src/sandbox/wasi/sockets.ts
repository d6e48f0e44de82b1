// wasi:sockets/*: never granted. Creating a socket or resolving a name fails with
// the WASI error code `access-denied`, which guests handle like any refused socket.

const ACCESS_DENIED = 'access-denied';
const refuse = (): never => {
  throw ACCESS_DENIED;
};

class Network {}
class TcpSocket {}
class UdpSocket {}
class IncomingDatagramStream {}
class OutgoingDatagramStream {}
class ResolveAddressStream {}

export function socketInterfaces(): Record<string, object> {
  return {
    'wasi:sockets/network': { Network, networkErrorCode: () => undefined },
    'wasi:sockets/instance-network': { instanceNetwork: () => new Network() },
    'wasi:sockets/tcp-create-socket': { createTcpSocket: refuse },
    'wasi:sockets/udp-create-socket': { createUdpSocket: refuse },
    'wasi:sockets/tcp': { TcpSocket },
    'wasi:sockets/udp': { UdpSocket, IncomingDatagramStream, OutgoingDatagramStream },
    'wasi:sockets/ip-name-lookup': { ResolveAddressStream, resolveAddresses: refuse },
  };
}
