using System.Net.Sockets;

namespace BeijingEts.Functions.Hosting;

/// <summary>Turns the failures a person can fix at start-up into one line that says what to do.</summary>
public static class StartupFailure
{
    public static string? Describe(Exception error) => error switch
    {
        StorageUnreachableException storage => storage.Message,
        IOException { InnerException: SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse } } or
            SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse } =>
            $"The port is already in use ({error.Message}); stop what uses it or pass --port N.",
        InvalidOperationException or FileNotFoundException or InvalidDataException => error.Message,
        AggregateException { InnerExceptions.Count: 1 } aggregate => Describe(aggregate.InnerExceptions[0]),
        _ => null,
    };
}
