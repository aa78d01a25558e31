namespace BeijingEts.Functions.Hosting;

/// <summary>
/// Where the app runs. Under the Functions host (FUNCTIONS_CUSTOMHANDLER_PORT set) the host owns triggers;
/// otherwise the app runs its own local trigger runtime and serves on a loopback port.
/// </summary>
public sealed record RuntimeMode(int? CustomHandlerPort, int LocalPort, string InvocationSocketPath)
{
    public bool IsCustomHandler => CustomHandlerPort is not null;

    public static RuntimeMode FromConfiguration(IConfiguration configuration)
    {
        var handlerPort = configuration["FUNCTIONS_CUSTOMHANDLER_PORT"];
        int? customHandlerPort = string.IsNullOrWhiteSpace(handlerPort) ? null : ParsePort(handlerPort, "FUNCTIONS_CUSTOMHANDLER_PORT");
        var localPort = ParsePort(configuration["Ets:Port"] ?? "7071", "--port");
        var socket = configuration["Ets:InvocationSocket"]
            ?? Path.Combine(Path.GetTempPath(), $"ets-{Environment.ProcessId}-{Guid.NewGuid():N}.sock");
        return new RuntimeMode(customHandlerPort, localPort, socket);
    }

    private static int ParsePort(string value, string name) =>
        int.TryParse(value, out var port) && port is >= 0 and <= 65535
            ? port
            : throw new InvalidOperationException($"{name} is '{value}'; give a port number from 1 to 65535.");
}
