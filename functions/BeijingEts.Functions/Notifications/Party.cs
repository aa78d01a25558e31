using System.Security.Claims;
using BeijingEts.Functions.Auth;

namespace BeijingEts.Functions.Notifications;

/// <summary>
/// Who a notice is for and whose contacts receive it: a role, and for a scoped role the unit, body, district or participant
/// it acts for. Roles without a scope (the bureau, the exchange, the registry, the finance authorities) are one party each,
/// whoever signs in for them. Written as "unit:91110000XXXXXXXXXX", "district:朝阳区", "regulator".
/// </summary>
public sealed record Party(string Role, string? Id = null)
{
    public static Party Regulator { get; } = new(Roles.Regulator);

    public static Party Unit(string uscc) => new(Roles.Unit, uscc);

    public static Party Verifier(string uscc) => new(Roles.Verifier, uscc);

    public static Party District(string district) => new(Roles.District, district);

    public string Key => Id is null ? Role : $"{Role}:{Id}";

    /// <summary>
    /// A party of many people who each keep their own read state (the bureau, the exchange, the registry, the finance
    /// authorities). A scoped party's reading stays one (a unit's first reading is its receipt of a notice, Art. 15).
    /// </summary>
    public bool IsShared => Id is null;

    /// <summary>The party a signed-in caller acts for; null for a scoped role whose token names no scope.</summary>
    public static Party? Of(ClaimsPrincipal user)
    {
        var role = Roles.All.FirstOrDefault(user.IsInRole);
        if (role is null) return null;
        if (EtsClaims.ScopeOf(role) is not { } claim) return new Party(role);
        return user.FindFirstValue(claim) is { Length: > 0 } scope ? Scoped(role, scope) : null;
    }

    /// <summary>A USCC is one party however a token cases it (scope checks elsewhere ignore case); a district's name is as written.</summary>
    private static Party Scoped(string role, string id) => new(role, role == Roles.District ? id : id.ToUpperInvariant());

    /// <summary>Reads "role" or "role:id" as written by <see cref="Key"/>; null when it names no role or lacks (or wrongly has) a scope.</summary>
    public static Party? Parse(string? key)
    {
        if (string.IsNullOrWhiteSpace(key) || key.Length > 120) return null;
        var colon = key.IndexOf(':');
        var role = colon < 0 ? key : key[..colon];
        var id = colon < 0 ? null : key[(colon + 1)..];
        if (!Roles.All.Contains(role)) return null;
        var scoped = EtsClaims.ScopeOf(role) is not null;
        if (scoped != (colon >= 0) || (id is not null && id.Trim().Length == 0)) return null;
        // Table keys refuse these characters; no USCC or district name has them.
        if (id is not null && (id.IndexOfAny(['/', '\\', '#', '?', ':', '|']) >= 0 || id.Any(char.IsControl))) return null;
        return id is null ? new Party(role) : Scoped(role, id);
    }

    public override string ToString() => Key;
}
