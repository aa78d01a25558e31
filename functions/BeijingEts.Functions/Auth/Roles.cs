using System.Security.Claims;

namespace BeijingEts.Functions.Auth;

/// <summary>The roles of the platform, as app roles in the token's "roles" claim.</summary>
public static class Roles
{
    public const string Regulator = "regulator";
    public const string District = "district";
    public const string Unit = "unit";
    public const string Verifier = "verifier";
    public const string Exchange = "exchange";
    /// <summary>A voluntary market participant (Art. 17) that is not a unit: trades from its own holding and funds accounts.</summary>
    public const string Participant = "participant";
    /// <summary>The finance authorities (市地方金融管理部门, 市财政部门): read the exchange's reports, the market, auction proceeds and buy-back spending (Art. 18, 31).</summary>
    public const string Finance = "finance";
    /// <summary>The registry (注册登记机构, Art. 13): opens, suspends and closes accounts; the regulator keeps its supervisory powers.</summary>
    public const string Registry = "registry";

    public static readonly string[] All = [Regulator, District, Unit, Verifier, Exchange, Participant, Finance, Registry];
}

/// <summary>The claim names that carry a caller's scope.</summary>
public static class EtsClaims
{
    public const string Roles = "roles";
    public const string Subject = "sub";
    /// <summary>Entra ID's object id: the same person in every app and token, unlike the per-app "sub".</summary>
    public const string ObjectId = "oid";
    public const string District = "district";
    public const string UnitId = "unit_id";
    public const string VerifierId = "verifier_id";
    public const string ParticipantId = "participant_id";

    /// <summary>The roles held to a scope, each with the claim that names it (a unit's USCC, a district, ...).</summary>
    public static readonly IReadOnlyList<(string Role, string Claim)> ScopedRoles =
        [(Auth.Roles.Unit, UnitId), (Auth.Roles.Participant, ParticipantId), (Auth.Roles.District, District), (Auth.Roles.Verifier, VerifierId)];

    /// <summary>The claim that names the role's scope; null for a role without one (regulator, exchange).</summary>
    public static string? ScopeOf(string role) => ScopedRoles.FirstOrDefault(r => r.Role == role).Claim;
}

/// <summary>Who did something, as the audit log records it: by a stable id, so one person's trail is one search.</summary>
public sealed record Actor(string Id, string Role, string? Scope)
{
    public static Actor System(string component) => new("system:" + component, "system", null);

    public static Actor From(ClaimsPrincipal user)
    {
        var role = Roles.All.FirstOrDefault(user.IsInRole) ?? "unknown";
        var scope = EtsClaims.ScopeOf(role) is { } claim ? user.FindFirstValue(claim) : null;
        var id = user.FindFirstValue(EtsClaims.ObjectId) ?? user.FindFirstValue(EtsClaims.Subject) ?? user.Identity?.Name ?? "anonymous";
        return new Actor(id, role, scope);
    }
}
