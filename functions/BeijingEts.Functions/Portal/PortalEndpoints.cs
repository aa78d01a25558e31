using System.Text.RegularExpressions;
using BeijingEts.Domain.Lists;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;

namespace BeijingEts.Functions.Portal;

/// <summary>
/// The portal's own routes, outside /api: GET /config.json tells the pages how to sign in; /dev/sign-in mints the
/// tokens ./scripts/token.sh prints, in local mode only (<see cref="PortalSettings.IsLocal"/>), and answers 404 anywhere else.
/// </summary>
public static partial class PortalEndpoints
{
    public sealed record PortalConfig(string Mode, string Api, EntraConfig? Entra);

    public sealed record EntraConfig(string? ClientId, string? Authority, string? Scope);

    public sealed record SignInRequest(string? Role, string? Scope);

    public sealed record SignInAnswer(string Token, string Role, string? Scope, DateTimeOffset ExpiresAt);

    private static readonly TimeSpan Lifetime = TimeSpan.FromHours(8); // as token.sh

    public static void MapPortalEndpoints(this WebApplication app, string routePrefix)
    {
        app.MapGet("/config.json", (PortalSettings settings, HttpContext http) =>
        {
            PortalHosting.Secure(http.Response, settings, "config.json");
            return TypedResults.Ok(settings.IsLocal
                ? new PortalConfig("local", "/" + routePrefix, null)
                : new PortalConfig("entra", "/" + routePrefix, new EntraConfig(settings.ClientId, settings.Authority, settings.Scope)));
        }).AllowAnonymous().ExcludeFromDescription();

        app.MapGet("/dev/sign-in", (PortalSettings settings) =>
            settings.IsLocal ? Results.Redirect("/#/sign-in") : NotHere()).AllowAnonymous().ExcludeFromDescription();
        app.MapPost("/dev/sign-in", SignIn).AllowAnonymous().ExcludeFromDescription();
    }

    private static IResult NotHere() => ProblemHandling.NotFound("There is nothing here.");

    private static async Task<IResult> SignIn(HttpContext http, PortalSettings settings, IConfiguration configuration, ILoggerFactory logs)
    {
        if (!settings.IsLocal) return NotHere();
        // Only a page this machine serves: a site whose name an attacker re-points at 127.0.0.1 (DNS rebinding) sends its own Host.
        if (!IsLoopbackHost(http.Request.Host.Host)) return Problems.Forbidden("The development sign-in answers pages served from this machine only: open the portal at http://127.0.0.1:<port>/.");
        // JSON only: a page on another site cannot send it without a CORS preflight this app never answers.
        if (!http.Request.HasJsonContentType()) return Results.Problem(statusCode: 415, title: "Unsupported media type", detail: "Send the sign-in as application/json: {\"role\": \"unit\", \"scope\": \"<USCC>\"}.");
        SignInRequest? request;
        try
        {
            request = await http.Request.ReadFromJsonAsync<SignInRequest>(http.RequestAborted);
        }
        catch (JsonException)
        {
            return ProblemHandling.BadRequest("The body is not JSON of the form {\"role\": \"unit\", \"scope\": \"<USCC>\"}.");
        }
        var role = request?.Role?.Trim() ?? "";
        var scope = string.IsNullOrWhiteSpace(request?.Scope) ? null : request!.Scope!.Trim();
        if (Problem(role, scope) is { } problem) return ProblemHandling.BadRequest(problem);
        if (role is Roles.Unit or Roles.Verifier or Roles.Participant) scope = scope!.ToUpperInvariant();
        // The wall clock, not the app's TimeProvider: the token is checked against the wall clock, as token.sh's are.
        var now = DateTimeOffset.UtcNow;
        var token = LocalTokens.Create(settings.SigningKey(configuration), role, scope, Lifetime, now);
        // Who signed in, never the token.
        logs.CreateLogger("BeijingEts.Functions.Portal.DevSignIn").LogInformation("Development sign-in as {Role} {Scope}", role, scope);
        http.Response.Headers.CacheControl = "no-store";
        return TypedResults.Ok(new SignInAnswer(token, role, scope, now.Add(Lifetime)));
    }

    private static bool IsLoopbackHost(string host) =>
        host is "localhost" or "127.0.0.1" or "[::1]" or "::1";

    /// <summary>What is wrong with a role and scope, as ./scripts/token.sh refuses them; null when a token can be made.</summary>
    internal static string? Problem(string role, string? scope)
    {
        if (!Roles.All.Contains(role)) return $"role must be one of {string.Join(", ", Roles.All)}.";
        if (scope is { Length: > 64 }) return "scope is at most 64 characters.";
        return role switch
        {
            Roles.Regulator when scope is not null && !RegulatorName().IsMatch(scope) => "A regulator's name (optional) is 1 to 64 letters, digits, '.', '_' or '-'.",
            Roles.Exchange or Roles.Finance or Roles.Registry when scope is not null => $"The {role} role takes no scope.",
            Roles.District when !Districts.IsKnown(scope) => $"A district sign-in names its district, one of {string.Join("、", Districts.All)}.",
            Roles.Unit or Roles.Verifier or Roles.Participant when !Uscc.TryParse(scope?.ToUpperInvariant(), out _, out var error) =>
                $"A {role} sign-in names its unified social credit code (18 characters): {error}",
            _ => null,
        };
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex RegulatorName();
}
