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

    public static readonly string[] All = [Regulator, District, Unit, Verifier, Exchange, Participant];
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
}

/// <summary>Who did something, as the audit log records it: by a stable id, so one person's trail is one search.</summary>
public sealed record Actor(string Id, string Role, string? Scope)
{
    public static Actor System(string component) => new("system:" + component, "system", null);

    public static Actor From(ClaimsPrincipal user)
    {
        var role = Roles.All.FirstOrDefault(user.IsInRole) ?? "unknown";
        var scope = role switch
        {
            Roles.District => user.FindFirstValue(EtsClaims.District),
            Roles.Unit => user.FindFirstValue(EtsClaims.UnitId),
            Roles.Verifier => user.FindFirstValue(EtsClaims.VerifierId),
            Roles.Participant => user.FindFirstValue(EtsClaims.ParticipantId),
            _ => null,
        };
        var id = user.FindFirstValue(EtsClaims.ObjectId) ?? user.FindFirstValue(EtsClaims.Subject) ?? user.Identity?.Name ?? "anonymous";
        return new Actor(id, role, scope);
    }
}
