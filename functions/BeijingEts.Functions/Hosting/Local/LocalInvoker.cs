using System.Net.Http.Json;
using System.Net.Sockets;
using BeijingEts.Functions.Hosting.Invocation;

namespace BeijingEts.Functions.Hosting.Local;

/// <summary>
/// How the local runtime calls a function: over HTTP on the app's private Unix socket, with the same payload the
/// Functions host sends, so the custom-handler contract is exercised on every local run and test.
/// </summary>
public sealed class LocalInvoker : IDisposable
{
    private readonly HttpClient _http;

    public LocalInvoker(RuntimeMode mode, HostSettings hostSettings)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(mode.InvocationSocketPath), cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
        };
        // As under the Functions host, an invocation may run up to functionTimeout.
        _http = new HttpClient(handler) { BaseAddress = new Uri("http://localhost/"), Timeout = hostSettings.FunctionTimeout };
    }

    public async Task<(bool Succeeded, InvocationResponse? Response)> InvokeAsync(
        string functionName, InvocationRequest request, string invocationId, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, functionName)
        {
            Content = JsonContent.Create(request, options: InvocationEndpoints.PayloadJson),
        };
        message.Headers.Add("X-Azure-Functions-InvocationId", invocationId);
        using var response = await _http.SendAsync(message, cancellationToken);
        var body = response.Content.Headers.ContentType?.MediaType == "application/json"
            ? await response.Content.ReadFromJsonAsync<InvocationResponse>(InvocationEndpoints.PayloadJson, cancellationToken)
            : null;
        return (response.IsSuccessStatusCode, body);
    }

    public static Dictionary<string, JsonElement> Json(object value) =>
        JsonSerializer.SerializeToElement(value).EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone());

    public void Dispose() => _http.Dispose();
}
