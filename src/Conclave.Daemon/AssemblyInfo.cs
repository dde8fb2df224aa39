namespace Conclave.Daemon;
