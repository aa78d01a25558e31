using System.Globalization;
using System.Net.Sockets;

namespace BeijingEts.Functions.Tests.Infrastructure;

/// <summary>
/// The smtp4dev that ./scripts/test.sh starts: its SMTP port for the app to send to, and its web API to read what
/// arrived, as a person would in its inbox.
/// </summary>
public sealed class Smtp4dev(int smtpPort, Uri web)
{
    public sealed record Message(string Id, string Subject, IReadOnlyList<string> To);

    private static readonly HttpClient Http = new();

    public int SmtpPort { get; } = smtpPort;

    public static Smtp4dev FromEnvironment()
    {
        var port = Environment.GetEnvironmentVariable("SMTP4DEV_SMTP_PORT");
        var url = Environment.GetEnvironmentVariable("SMTP4DEV_URL");
        if (port is null || url is null) throw new InvalidOperationException("SMTP4DEV_SMTP_PORT and SMTP4DEV_URL are not set: run the tests with ./scripts/test.sh, which starts smtp4dev.");
        return new Smtp4dev(int.Parse(port, CultureInfo.InvariantCulture), new Uri(url));
    }

    /// <summary>
    /// The messages for the address once at least <paramref name="expected"/> have arrived (smtp4dev stores a message a
    /// moment after accepting it), or what arrived within ten seconds.
    /// </summary>
    public async Task<IReadOnlyList<Message>> ArrivedAsync(string address, int expected, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var found = await MessagesToAsync(address, cancellationToken);
            if (found.Count >= expected || DateTime.UtcNow > deadline) return found;
            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>Every message that arrived for the address so far (each test uses addresses of its own).</summary>
    public async Task<IReadOnlyList<Message>> MessagesToAsync(string address, CancellationToken cancellationToken)
    {
        var page = await Http.GetFromJsonAsync<JsonElement>(new Uri(web, $"/api/messages?pageSize=100000&searchTerms={Uri.EscapeDataString(address)}"), cancellationToken);
        return page.GetProperty("results").EnumerateArray()
            .Select(m => new Message(m.GetProperty("id").GetString()!, m.GetProperty("subject").GetString()!, m.GetProperty("to").EnumerateArray().Select(t => t.GetString()!).ToList()))
            .Where(m => m.To.Contains(address, StringComparer.OrdinalIgnoreCase))
            .ToList();
    }

    public async Task<string> PlainTextAsync(string id, CancellationToken cancellationToken) =>
        await Http.GetStringAsync(new Uri(web, $"/api/messages/{id}/plaintext"), cancellationToken);
}

public static class TcpPorts
{
    /// <summary>A loopback port nothing listens on (free when asked).</summary>
    public static int Free()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
