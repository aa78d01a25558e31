using System.Text;
using System.Text.RegularExpressions;
using BeijingEts.Functions.Auth;

namespace BeijingEts.Functions.Tests.Api;

/// <summary>One endpoint as the OpenAPI document lists it, with its declaration (null when it has none).</summary>
public sealed record ApiEndpoint(string Method, string Path, EndpointRule? Rule, JsonElement Operation)
{
    public string Key => $"{Method} {Path}";

    /// <summary>The path with each route value filled in by <paramref name="value"/> (given the parameter's name).</summary>
    public string Fill(Func<string, string> value) =>
        Regex.Replace(Path, @"\{(\w+)\}", m => Uri.EscapeDataString(value(m.Groups[1].Value)));
}

public static class ApiEndpoints
{
    public static Task<JsonElement> DocumentAsync(EtsAppFixture app) =>
        app.Client().GetFromJsonAsync<JsonElement>("/api/openapi.json", TestContext.Current.CancellationToken);

    /// <summary>Every /api endpoint in the served OpenAPI document, in a fixed order.</summary>
    public static async Task<IReadOnlyList<ApiEndpoint>> ListAsync(EtsAppFixture app)
    {
        var document = await DocumentAsync(app);
        var endpoints = new List<ApiEndpoint>();
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject().Where(o => o.Name is "get" or "post" or "put" or "delete" or "patch"))
            {
                var method = operation.Name.ToUpperInvariant();
                var route = path.Name["/api".Length..];
                endpoints.Add(new ApiEndpoint(method, path.Name, EndpointAccess.Find(method, route), operation.Value.Clone()));
            }
        }
        return endpoints.OrderBy(e => e.Path, StringComparer.Ordinal).ThenBy(e => e.Method, StringComparer.Ordinal).ToList();
    }

    /// <summary>Sends a request with a JSON body where the method takes one.</summary>
    public static Task<HttpResponseMessage> SendAsync(HttpClient client, string method, string url, string? json = "{}")
    {
        var request = new HttpRequestMessage(new HttpMethod(method), url);
        if (method is "POST" or "PUT" or "PATCH" && json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        return client.SendAsync(request, TestContext.Current.CancellationToken);
    }
}
